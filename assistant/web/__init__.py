"""Web stage: the Gradio client chat, the staff view and the JSON API on one server.

``app`` (layout and ``launch``) -> ``handlers`` (events) -> ``render`` (reply fields to
HTML), ``articles`` (the articles as text) and ``api`` (input checks, rate limit, answer
slots, staff credentials); ``guard`` (request ids, JSON 500s, no uploads), ``staff`` (who
is staff, whether the app may start), ``ratelimit`` (who the client is, how often it may
ask), ``sessions`` (what Gradio keeps per session), ``feedback``.
"""
