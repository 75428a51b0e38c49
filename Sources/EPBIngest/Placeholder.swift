import EPBPlanner
