"""PIM -> feed: products and product models read page by page and written in the push grammar."""
