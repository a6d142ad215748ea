"""An uploaded asset's statuses: `active` (usable by its owner for its purpose), `rejected`
(broke its profile), `destroyed` (replaced or deleted; removed from Cloudinary)."""

ACTIVE, REJECTED, DESTROYED = "active", "rejected", "destroyed"
