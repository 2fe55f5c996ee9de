"""Request and response shapes of the public delivery API, one module per public resource."""
