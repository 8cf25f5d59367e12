"""The follower webhook, request → answer: the aiohttp sub-application (server), dedupe, dispatch and
the rule vocabulary (router, context, conversation), follower records and their customer-service
windows, the outbox for replies that cannot go out passively, the message log, and a trial run of
the routers (trial). WeChat's own protocol and client are wechat/'s; what answers is handlers/'s."""
