"""1C clients: the standard OData interface, SOAP web services, and 1C-side mappings."""
