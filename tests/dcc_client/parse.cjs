/*
 * DCC's DUIS parser (npm @smartdcc/duis-parser) reading DUIS documents, for tests/dcc_parts.py.
 *
 * Usage: node parse.cjs FILE...   (NODE_PATH names the node_modules holding @smartdcc/duis-parser)
 * Prints one JSON line per file: what parseDuis('simplified', ...) and the package's own type guards
 * make of it (and the package's version, "parser"), so a test reads DCC's parser's view of a message,
 * not ours. A document the parser throws on gets {"file", "error"}.
 */
'use strict'

const fs = require('node:fs')
const duis = require('@smartdcc/duis-parser')
const parser = require('@smartdcc/duis-parser/package.json').version

/** "originator:target:counter" as the parser read it (it lowercases the EUIs), or null. */
function requestId(id) {
  return id ? `${id.originatorId}:${id.targetId}:${id.counter.toString()}` : null
}

function view(file) {
  const parsed = duis.parseDuis('simplified', fs.readFileSync(file))
  const header = parsed.header
  const body = parsed.body && typeof parsed.body === 'object' ? parsed.body : {}
  const kinds = Object.keys(body)
  const message = kinds.length === 1 && typeof body[kinds[0]] === 'object' ? body[kinds[0]] : {}
  const common = {
    file,
    parser,
    type: header.type,
    requestId: requestId(header.requestId),
    bodyKinds: kinds,
    serviceReference: message.ServiceReference ?? null,
    serviceReferenceVariant: message.ServiceReferenceVariant ?? null,
  }
  if (header.type === 'request') {
    return {
      ...common,
      commandVariant: header.commandVariant.number,
      webService: header.commandVariant.webService,
      serviceReference: header.serviceReference,
      serviceReferenceVariant: header.serviceReferenceVariant['Service Reference Variant'],
      isRequest: duis.isSimplifiedDuisOutputRequest(parsed),
    }
  }
  return {
    ...common,
    responseId: requestId(header.responseId),
    responseCode: header.responseCode,
    responseDateTime: header.responseDateTime,
    isResponse: duis.isSimplifiedDuisOutputResponse(parsed),
    isResponseMessage: duis.isSimplifiedDuisResponseBody_ResponseMessage(parsed.body),
  }
}

for (const file of process.argv.slice(2)) {
  let line
  try {
    line = view(file)
  } catch (e) {
    line = { file, error: String(e && e.message ? e.message : e) }
  }
  process.stdout.write(JSON.stringify(line) + '\n')
}
