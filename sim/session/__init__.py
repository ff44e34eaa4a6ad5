"""One day's sessions, vectorised over a batch of visits: intents, one module per surface, shadow truth, checkout.

The flow of a visit (DESIGN.md "A session"): pantry needs plus exploratory wants become intents
(``intents``); the home feed is shown first and may satisfy intents or trigger impulse buys
(``home``); every intent still open is searched and a need still unmet may be found anyway by
browsing (``search``); the budget trims the cart and checkout updates the shopper (``checkout``).
Every phase takes a ``context.VisitContext``, never a world; ``steps`` runs the surfaces in order.
"""
