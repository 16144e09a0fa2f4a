"""REST API of the webhooks app: the deliveries to n8n."""
