"""Understanding what residents text: intent and `service`, in Rasa's NLU format and response shape."""
