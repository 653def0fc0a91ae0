def handle(event, context):
    """Answers with the request body; see the template's welcome message."""
    return {
        "statusCode": 200,
        "body": "You said: " + event.body.decode("utf-8", "replace"),
    }
