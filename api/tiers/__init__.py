"""VIP tiers: configuration, qualification, upgrades and reviews, members' progress."""
