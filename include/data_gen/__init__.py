"""ShopStream's OLTP data generator: deterministic Faker rows for ``oltp.*`` and a COPY loader.

``python -m include.data_gen --help`` for the command line; ``OltpGenerator`` for the rows alone.
"""

from include.data_gen.generator import GeneratorOptions, OltpGenerator, copy_columns

__all__ = ["GeneratorOptions", "OltpGenerator", "copy_columns"]
