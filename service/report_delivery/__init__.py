"""Report pages and downloads, the render process pool and the PDF cache (``service.report`` renders)."""
