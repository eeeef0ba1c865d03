/**
 * `aivault markdown` rendering, rule by rule from SPEC §15 "Markdown": scalars, sorted keys as
 * `# Title` blocks, `None` for empty values, `<begin key>`/`</end key>` fences for nested
 * objects and arrays of objects, `  - item` lists, --exclude-field, --wrap-field, --namespace.
 */
import assert from 'node:assert/strict'

import {renderMarkdown, titleOf} from '../../src/render/markdown'

describe('render/markdown: titleOf', () => {
  it('splits on "_" and "-" and upper-cases the first letter of each word', () => {
    assert.equal(titleOf('user_id'), 'User Id')
    assert.equal(titleOf('created-at'), 'Created At')
    assert.equal(titleOf('name'), 'Name')
    assert.equal(titleOf('a_b-c'), 'A B C')
    assert.equal(titleOf('total_tokens_used'), 'Total Tokens Used')
  })

  it('changes only the first letter of each word', () => {
    assert.equal(titleOf('userID'), 'UserID')
    assert.equal(titleOf('camelCase'), 'CamelCase')
    assert.equal(titleOf('HTTP_code'), 'HTTP Code')
    assert.equal(titleOf('ALREADY_UPPER'), 'ALREADY UPPER')
    assert.equal(titleOf('v2_api'), 'V2 Api')
  })

  it('keeps other punctuation and spaces inside words', () => {
    assert.equal(titleOf('content.type'), 'Content.type')
    assert.equal(titleOf('x y'), 'X y')
  })
})

describe('render/markdown: scalars at the top', () => {
  it('renders null as empty', () => {
    assert.equal(renderMarkdown(null), '')
  })

  it('renders booleans and numbers as text', () => {
    assert.equal(renderMarkdown(true), 'true')
    assert.equal(renderMarkdown(false), 'false')
    assert.equal(renderMarkdown(42), '42')
    assert.equal(renderMarkdown(0), '0')
    assert.equal(renderMarkdown(-1.5), '-1.5')
  })

  it('renders strings as is, and a blank string as None', () => {
    assert.equal(renderMarkdown('hello world'), 'hello world')
    assert.equal(renderMarkdown('# not a title\n*kept*'), '# not a title\n*kept*')
    assert.equal(renderMarkdown(''), 'None')
    assert.equal(renderMarkdown('   '), 'None')
    assert.equal(renderMarkdown('\n\t'), 'None')
  })
})

describe('render/markdown: objects', () => {
  it('renders each key as "# Title\\n\\nvalue\\n", blocks joined by "\\n", right-trimmed', () => {
    assert.equal(renderMarkdown({name: 'Ada'}), '# Name\n\nAda')
    assert.equal(renderMarkdown({name: 'Ada', user_id: 7}), '# Name\n\nAda\n\n# User Id\n\n7')
  })

  it('sorts keys', () => {
    assert.equal(renderMarkdown({zeta: 1, alpha: 2, mid: 3}), '# Alpha\n\n2\n\n# Mid\n\n3\n\n# Zeta\n\n1')
  })

  it('sorts keys by code point (upper case before lower case), not by title', () => {
    assert.equal(renderMarkdown({b: 1, B: 2, a: 3}), '# B\n\n2\n\n# A\n\n3\n\n# B\n\n1')
    assert.equal(renderMarkdown({a_b: 1, a: 2, 'a-b': 3}), '# A\n\n2\n\n# A B\n\n3\n\n# A B\n\n1')
  })

  it('renders booleans, numbers and strings under keys', () => {
    assert.equal(renderMarkdown({ok: true, n: 3.25, s: 'text'}), '# N\n\n3.25\n\n# Ok\n\ntrue\n\n# S\n\ntext')
    assert.equal(renderMarkdown({zero: 0, no: false}), '# No\n\nfalse\n\n# Zero\n\n0')
  })

  it('renders null, blank strings, [] and {} values as None', () => {
    assert.equal(renderMarkdown({a: null}), '# A\n\nNone')
    assert.equal(renderMarkdown({a: ''}), '# A\n\nNone')
    assert.equal(renderMarkdown({a: '  \n '}), '# A\n\nNone')
    assert.equal(renderMarkdown({a: []}), '# A\n\nNone')
    assert.equal(renderMarkdown({a: {}}), '# A\n\nNone')
    assert.equal(renderMarkdown({a: null, b: [], c: {}, d: 'x'}), '# A\n\nNone\n\n# B\n\nNone\n\n# C\n\nNone\n\n# D\n\nx')
  })

  it('keeps multi-line strings as they are and only right-trims the whole result', () => {
    assert.equal(renderMarkdown({a: 'line 1\nline 2', b: 'x'}), '# A\n\nline 1\nline 2\n\n# B\n\nx')
    assert.equal(renderMarkdown({a: 'x\n', b: 'y'}), '# A\n\nx\n\n\n# B\n\ny')
    assert.equal(renderMarkdown({a: '  indented'}), '# A\n\n  indented')
    assert.equal(renderMarkdown({a: 'trailing   \n\n'}), '# A\n\ntrailing')
  })

  it('renders an empty object at the top as empty', () => {
    assert.equal(renderMarkdown({}), '')
  })
})

describe('render/markdown: nesting', () => {
  it('fences a nested object in <begin key>/</end key>', () => {
    assert.equal(renderMarkdown({user: {name: 'Ada', id: 1}}), '# User\n\n<begin user>\n# Id\n\n1\n\n# Name\n\nAda\n</end user>')
  })

  it('uses the raw key, not the title, in the fence', () => {
    assert.equal(renderMarkdown({user_info: {x: 1}}), '# User Info\n\n<begin user_info>\n# X\n\n1\n</end user_info>')
  })

  it('nests fences for deeper objects', () => {
    assert.equal(renderMarkdown({a: {b: {c: 1}}}), '# A\n\n<begin a>\n# B\n\n<begin b>\n# C\n\n1\n</end b>\n</end a>')
  })

  it('renders None for empty values inside nested objects', () => {
    assert.equal(renderMarkdown({a: {b: null, c: []}}), '# A\n\n<begin a>\n# B\n\nNone\n\n# C\n\nNone\n</end a>')
  })

  it('fences an array of objects, the rendered objects separated by a blank line', () => {
    assert.equal(
      renderMarkdown({items: [{id: 1, name: 'a'}, {id: 2, name: 'b'}]}),
      '# Items\n\n<begin items>\n# Id\n\n1\n\n# Name\n\na\n\n# Id\n\n2\n\n# Name\n\nb\n</end items>',
    )
    assert.equal(renderMarkdown({items: [{id: 1}]}), '# Items\n\n<begin items>\n# Id\n\n1\n</end items>')
  })

  it('renders an array of objects at the top as objects separated by a blank line', () => {
    assert.equal(renderMarkdown([{a: 1}, {a: 2}]), '# A\n\n1\n\n# A\n\n2')
  })

  it('renders an array of scalars as "  - item" lines', () => {
    assert.equal(renderMarkdown({tags: ['x', 'y', 'z']}), '# Tags\n\n  - x\n  - y\n  - z')
    assert.equal(renderMarkdown({nums: [1, 2.5, true]}), '# Nums\n\n  - 1\n  - 2.5\n  - true')
    assert.equal(renderMarkdown(['one', 'two']), '  - one\n  - two')
  })

  it('renders a list of scalars inside a nested object', () => {
    assert.equal(renderMarkdown({a: {tags: ['x']}}), '# A\n\n<begin a>\n# Tags\n\n  - x\n</end a>')
  })

  it('fences objects inside an array of objects again', () => {
    assert.equal(
      renderMarkdown({choices: [{message: {role: 'assistant', content: 'hi'}}]}),
      '# Choices\n\n<begin choices>\n# Message\n\n<begin message>\n# Content\n\nhi\n\n# Role\n\nassistant\n</end message>\n</end choices>',
    )
  })
})

describe('render/markdown: options', () => {
  it('--exclude-field drops keys', () => {
    assert.equal(renderMarkdown({id: 1, name: 'a', secret: 'x'}, {excludeFields: ['secret', 'id']}), '# Name\n\na')
  })

  it('--exclude-field applies to nested objects too', () => {
    assert.equal(renderMarkdown({a: {keep: 1, drop: 2}, drop: 3}, {excludeFields: ['drop']}), '# A\n\n<begin a>\n# Keep\n\n1\n</end a>')
    assert.equal(renderMarkdown({list: [{keep: 1, drop: 2}]}, {excludeFields: ['drop']}), '# List\n\n<begin list>\n# Keep\n\n1\n</end list>')
  })

  it('--exclude-field of every key leaves nothing', () => {
    assert.equal(renderMarkdown({a: 1}, {excludeFields: ['a']}), '')
  })

  it('--wrap-field fences a string under that key', () => {
    assert.equal(renderMarkdown({content: 'hello', other: 'x'}, {wrapFields: ['content']}), '# Content\n\n<begin content>\nhello\n</end content>\n\n# Other\n\nx')
    assert.equal(renderMarkdown({content: 'a\nb'}, {wrapFields: ['content']}), '# Content\n\n<begin content>\na\nb\n</end content>')
  })

  it('--wrap-field also applies to nested keys', () => {
    assert.equal(renderMarkdown({m: {content: 'hi'}}, {wrapFields: ['content']}), '# M\n\n<begin m>\n# Content\n\n<begin content>\nhi\n</end content>\n</end m>')
  })

  it('--wrap-field leaves non-strings and blank strings to the other rules', () => {
    assert.equal(renderMarkdown({content: 5}, {wrapFields: ['content']}), '# Content\n\n5')
    assert.equal(renderMarkdown({content: ''}, {wrapFields: ['content']}), '# Content\n\nNone')
    assert.equal(renderMarkdown({content: ['x']}, {wrapFields: ['content']}), '# Content\n\n  - x')
  })

  it('--namespace wraps the whole output and ends with a newline', () => {
    assert.equal(renderMarkdown({a: 1}, {namespace: 'openai'}), '<begin openai>\n# A\n\n1\n</end openai>\n')
    assert.equal(renderMarkdown({a: 'x  \n'}, {namespace: 'n'}), '<begin n>\n# A\n\nx\n</end n>\n')
    assert.equal(renderMarkdown('text', {namespace: 'n'}), '<begin n>\ntext\n</end n>\n')
  })

  it('combines the options', () => {
    const out = renderMarkdown({b: {text: 'hi', skip: 1}, a_key: ['v']}, {namespace: 'ns', excludeFields: ['skip'], wrapFields: ['text']})
    assert.equal(out, '<begin ns>\n# A Key\n\n  - v\n\n# B\n\n<begin b>\n# Text\n\n<begin text>\nhi\n</end text>\n</end b>\n</end ns>\n')
  })
})
