"""VIP tiers: the ladder, members' tiers and progress, the earn preview."""
