def seed(*, seed, log):
    pass
