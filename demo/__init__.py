"""Demo and test material, not the app: synthetic media for seed_videos.py, tests and bench."""
