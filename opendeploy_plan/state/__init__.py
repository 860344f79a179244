"""State: what the gateway says is live (models here, refresh in `refresh.py`)."""
