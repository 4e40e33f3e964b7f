"""Provider batch jobs: validate, split, estimate, submit crash-safely, poll, collect, record.

Modules:
  limits      each provider's published limits and rules (custom_id, endpoints)
  scan        one streaming pass over an input file: validation, split points, token totals
  convert     provider-neutral JSONL <-> OpenAI <-> Anthropic request lines
  estimate    batch vs synchronous price of a scanned file, through tokcli.cost
  jobs        the store side: jobs, parts and the intent log
  lock        one acting process per store (fcntl lock beside the store)
  providers   openai.py / anthropic.py: the HTTP calls and the mapping of remote objects
  engine      submit / resume / poll / cancel: the order of steps and their intents
  results     download, join on custom_id in input order, record usage and cost
"""
