"""The local WeChat platform: a faithful stand-in for api.weixin.qq.com (tokens, quotas, windows,
drafts, publishing, mass send, events) and the follower simulator, for tests and editors' rehearsals."""
