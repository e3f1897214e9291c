"""The local archive: keeping chats in sync with the store, and reading them back offline."""
