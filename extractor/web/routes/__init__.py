"""The routes, one module per page (and `api` for the JSON API). Each is a thin layer over store/outputs."""
