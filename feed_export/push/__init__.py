"""Feed -> PIM: decode rows, plan and send them, remember what went, write the feedback."""
