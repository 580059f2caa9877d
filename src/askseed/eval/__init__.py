"""`askseed eval`: benchmark folders in the BEIR layout, IR metrics, and the runner."""
