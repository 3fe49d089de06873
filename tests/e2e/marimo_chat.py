"""A marimo app with three chat panels, as the README shows marimo use (tests/e2e/test_marimo.py).

The agents are the local agent server's: POWABASE_BASE_URL and POWABASE_API_KEY come from
the test's environment.
"""

import marimo

app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo

    from powawidget import ChatWidget

    return ChatWidget, mo


@app.cell
def _(ChatWidget, mo):
    chat = mo.ui.anywidget(ChatWidget(agent_id="agt_demo"))
    chat
    return (chat,)


@app.cell
def _(chat, mo):
    # Reactive: re-runs each time the panel says a run settled.
    answered = len(chat.widget.runs)
    mo.Html(f'<p data-testid="reactive">settled {chat.value["settled"]}, runs {answered}</p>')
    return


@app.cell
def _(ChatWidget, mo):
    storyteller = mo.ui.anywidget(ChatWidget(agent_id="agt_long"))
    storyteller
    return (storyteller,)


@app.cell
def _(ChatWidget, mo):
    careful = mo.ui.anywidget(ChatWidget(agent_id="agt_approval"))
    careful
    return (careful,)


if __name__ == "__main__":
    app.run()
