"""ShopStream's OLTP data generator: deterministic rows for ``oltp.*``, a COPY loader, a next-day simulator.

``python -m include.data_gen --help`` for the command line; ``OltpGenerator`` for the rows alone;
``simulate_next_day`` for one more day in an existing database. See docs/data_generator.md.
"""

from include.data_gen.generator import GeneratorOptions, OltpGenerator, copy_columns

__all__ = ["GeneratorOptions", "OltpGenerator", "copy_columns"]
