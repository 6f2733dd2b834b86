"""Web stage: the Gradio client chat, the staff view and the JSON API on one server.

``app`` (layout and ``launch``) -> ``handlers`` (events) -> ``render`` (reply fields to
HTML) and ``api`` (input checks, rate limit, answer slots); ``ratelimit``, ``feedback``.
"""
