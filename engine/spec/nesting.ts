import type {CST} from 'yaml'

type Token = CST.Token

/**
 * Nesting guards. yaml's parser slows sharply on pathological nesting (a megabyte of `[` takes seconds), so a cheap
 * linear pre-scan of the raw text refuses anything far beyond the limit before parsing; the exact check then runs on
 * the parsed CST, iteratively (a recursive walk would itself overflow the stack on hostile input).
 */

/**
 * An upper estimate of the nesting depth in `text` and the offset where it peaks, by one pass over the characters:
 * flow brackets outside quotes and comments, plus block indentation levels and compact `- - -` / `? ` indicators.
 * It may overestimate (brackets inside plain scalars count), which is why callers compare it with a multiple of the
 * real limit.
 */
export function estimateNesting(text: string, limit: number): {depth: number; offset: number} {
  let best = {depth: 0, offset: 0}
  // Past the limit, keep the offset where it was first crossed: that is where the reader should look.
  const record = (depth: number, offset: number) => {
    if (depth > best.depth) best = {depth, offset: best.depth > limit ? best.offset : offset}
  }
  let flow = 0
  const indents: number[] = []
  let i = 0
  const n = text.length
  while (i < n) {
    // Start of a line: indentation and compact block indicators.
    let indent = 0
    while (i < n && text[i] === ' ') {
      i++
      indent++
    }
    if (flow === 0 && i < n && text[i] !== '\n' && text[i] !== '#') {
      while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop()
      indents.push(indent)
      let compact = 0
      while (i + 1 < n && (text[i] === '-' || text[i] === '?') && (text[i + 1] === ' ' || text[i + 1] === '\n')) {
        compact++
        i += 2
        while (i < n && text[i] === ' ') i++
      }
      record(indents.length + compact, i)
    }
    // Rest of the line: flow brackets outside quotes; a comment ends the line.
    let quote = ''
    while (i < n && text[i] !== '\n') {
      const c = text[i]!
      if (quote !== '') {
        if (c === '\\' && quote === '"') i++
        else if (c === quote) quote = ''
      } else if (c === '"' || c === "'") {
        if (i === 0 || /[\s[{,:]/.test(text[i - 1]!)) quote = c
      } else if (c === '#' && (i === 0 || text[i - 1] === ' ')) {
        while (i < n && text[i] !== '\n') i++
        break
      } else if (c === '[' || c === '{') {
        flow++
        record(indents.length + flow, i)
      } else if ((c === ']' || c === '}') && flow > 0) flow--
      i++
    }
    i++
  }
  return best
}

/** Exact collection depth of a CST document token, and the offset of the first collection past `limit`. */
export function cstDepth(token: Token, limit: number): {depth: number; offset: number} {
  let best = {depth: 0, offset: token.offset}
  const stack: Array<[Token, number]> = [[token, 0]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    switch (node.type) {
      case 'document':
        if (node.value) stack.push([node.value, depth])
        break
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        const inner = depth + 1
        if (inner > best.depth) best = {depth: inner, offset: best.depth > limit ? best.offset : node.offset}
        for (const item of node.items) {
          if (item.key) stack.push([item.key, inner])
          if (item.value) stack.push([item.value, inner])
        }
        break
      }
      default:
        break
    }
  }
  return best
}
