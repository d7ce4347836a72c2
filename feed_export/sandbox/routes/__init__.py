"""The sandbox PIM's REST routes, one module per resource, each a Flask blueprint.

``common`` (errors, JSON answers, authentication), ``pagination`` (offset pages and the
``search`` filter of reference lists), ``collection`` (the streamed collection PATCH),
``token``, ``reference`` (catalog lists), ``listing`` (product and model lists),
``products``, ``product_models``, ``media_files``, ``assets`` (asset families, their
attributes and assets), ``asset_media_files``.
``feed_export.sandbox.api.create_app`` registers them.
"""
