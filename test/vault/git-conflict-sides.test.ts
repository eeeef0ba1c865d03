/**
 * Splitting a file git left with conflict markers back into its sides (src/vault/git/conflict-sides.ts):
 * lines outside the blocks belong to both sides, a diff3 base section to neither.
 */
import assert from 'node:assert/strict'

import {hasConflictMarkers, splitConflict} from '../../src/vault/git/conflict-sides'

describe('vault/git/conflict-sides', () => {
  it('rebuilds both sides of a file with two conflict blocks, keeping the labels', () => {
    const text = ['id: x', '<<<<<<< HEAD', 'valueVersion: 3', '=======', 'valueVersion: 4', '>>>>>>> origin/main', 'alg: a', '<<<<<<< HEAD', 'nonce: one', '=======', 'nonce: two', '>>>>>>> origin/main', 'kekId: k', ''].join('\n')
    assert.equal(hasConflictMarkers(text), true)
    assert.deepEqual(splitConflict(text), {
      ours: 'id: x\nvalueVersion: 3\nalg: a\nnonce: one\nkekId: k\n',
      theirs: 'id: x\nvalueVersion: 4\nalg: a\nnonce: two\nkekId: k\n',
      oursLabel: 'HEAD',
      theirsLabel: 'origin/main',
    })
  })

  it('keeps a diff3 base section apart from both sides', () => {
    const text = ['a: 1', '<<<<<<< ours', 'b: ours', '||||||| base', 'b: base', '=======', 'b: theirs', '>>>>>>> theirs', ''].join('\n')
    assert.deepEqual(splitConflict(text), {ours: 'a: 1\nb: ours\n', theirs: 'a: 1\nb: theirs\n', base: 'a: 1\nb: base\n', oursLabel: 'ours', theirsLabel: 'theirs'})
  })

  it('gives up on markers that do not pair, and sees none in an ordinary record', () => {
    assert.equal(splitConflict('a: 1\n<<<<<<< HEAD\nb: 2\n'), undefined)
    assert.equal(splitConflict('a: 1\n=======\nb: 2\n'), undefined)
    assert.equal(hasConflictMarkers('name: A\nnonce: "<<<<<<<"\n'), false)
    assert.equal(splitConflict('name: A\n'), undefined)
  })
})
