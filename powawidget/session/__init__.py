"""Sessions: runs streamed in threads, the chat state machine, recordings and replays."""
