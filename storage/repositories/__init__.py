"""Repositories: collection-like access to stored rows as domain objects, one module per
repository, reached through `storage.unit_of_work.UnitOfWork`. They never commit."""
