"""What every app's API uses: strict request fields, validation, and the error envelope's schema."""
