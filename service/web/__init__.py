"""Server-rendered pages (Jinja2), their static files and message catalogues."""
