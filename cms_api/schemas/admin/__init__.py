"""Request and response shapes of the admin API, one module per admin resource."""
