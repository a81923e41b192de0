// The previews page's script, inlined into index.html (report_tools/previews/page.py): the page
// tabs, and the render report (#render-report) that page.chromium_state reads back from headless Chromium.
window.__errors = [];
window.onerror = function (message, source, line) { window.__errors.push(message + ' @' + line); report(); };
function show(page) {
  document.querySelectorAll('.page').forEach(function (p) { p.hidden = p.id !== 'page-' + page; });
  document.querySelectorAll('nav button').forEach(function (b) {
    b.setAttribute('aria-selected', String(b.dataset.page === page)); });
}
// Text a reader cannot read whole: an element narrower than its text (scrollWidth > clientWidth), text
// (HTML or SVG) reaching outside its visual's box, or a visual whose content is larger than the visual.
function overflowing(page) {
  var found = [];
  page.querySelectorAll('.visual').forEach(function (v) {
    var box = v.getBoundingClientRect();
    var where = page.id.slice(5) + '/' + v.dataset.visual + ': ';
    if (v.scrollHeight > v.clientHeight + 1 || v.scrollWidth > v.clientWidth + 1) {
      found.push(where + 'content larger than the visual'); }
    v.querySelectorAll('h2, th, td, .card-value, .card-label, .slicer, text').forEach(function (t) {
      var text = t.textContent.trim();
      var r = t.getBoundingClientRect();
      if (!text || (r.width === 0 && r.height === 0)) { return; }
      var cut = t instanceof HTMLElement && t.scrollWidth > t.clientWidth + 1;  // SVG text: its box only
      var outside = r.left < box.left - 1 || r.right > box.right + 1
        || r.top < box.top - 1 || r.bottom > box.bottom + 1;
      if (cut || outside) { found.push(where + text.slice(0, 80)); }
    });
  });
  return found;
}
function report() {
  var pages = document.querySelectorAll('.page');
  var visuals = document.querySelectorAll('.visual');
  var drawn = 0;
  var overflow = [];
  visuals.forEach(function (v) {
    if (v.querySelector('svg, table, .card-value, .slicer')) { drawn += 1; }
  });
  var shown = document.querySelector('.page:not([hidden])');
  pages.forEach(function (p) { show(p.id.slice(5)); overflow = overflow.concat(overflowing(p)); });
  if (shown) { show(shown.id.slice(5)); }
  document.getElementById('render-report').textContent = JSON.stringify({
    pages: pages.length, visuals: visuals.length, drawn: drawn, errors: window.__errors, overflow: overflow});
}
document.querySelectorAll('nav button').forEach(function (b) {
  b.addEventListener('click', function () { show(b.dataset.page); });
});
show(document.querySelector('.page').id.slice(5));
report();
