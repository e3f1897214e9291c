"""One module per capability; async, taking their gateways as arguments."""
