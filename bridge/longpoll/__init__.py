"""The long-poll hub: durable event streams to 1C, and the contact-data broker."""
