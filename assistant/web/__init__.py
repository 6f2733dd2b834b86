"""Web stage: the client chat at ``/``, the staff page at ``/staff`` and the JSON API, on
one FastAPI app.

``app`` (both pages mounted, ``launch``) -> the client page: ``client`` (one Gradio HTML
component; its script and styles in ``static/``), ``chat`` (its routes), ``card`` (a
reply's fields as an answer card), ``passages``, ``suggest``, ``clinic``,
``article_page``; the staff page: ``staff_page``, ``handlers``, ``render``; shared:
``api`` (input checks, rate limit, answer slots), ``ratelimit``, ``feedback``.
"""
