"""The bulk API: create a job, read it, cancel it."""
