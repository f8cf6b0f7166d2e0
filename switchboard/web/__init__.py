"""The web dashboard's static files (no build step), served by api/dashboard_routes.py."""
