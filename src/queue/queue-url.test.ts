import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQueueUrl, redactText } from './queue-url.js';

test('a queue URL is shown without its password; redis:// and rediss:// only', () => {
  assert.deepEqual(parseQueueUrl('redis://127.0.0.1:6379'), { url: 'redis://127.0.0.1:6379', shown: 'redis://127.0.0.1:6379' });
  assert.equal(parseQueueUrl('rediss://user:pa%40ss@cache.example:6380/2').shown, 'rediss://user@cache.example:6380/2');
  assert.equal(parseQueueUrl('redis://:pw@h:1').shown, 'redis://h:1');
  assert.equal(parseQueueUrl('redis://:pw@h:1').url, 'redis://:pw@h:1', 'the client still gets the password');
  assert.throws(() => parseQueueUrl('http://h:1'), /must be a redis:\/\/ or rediss:\/\/ URL/);
  assert.throws(() => parseQueueUrl('redis://:pw@h:1/x'), /database number/);
  assert.throws(() => parseQueueUrl('not a url :secret@'), (e: Error) => !e.message.includes('secret'));
  assert.equal(redactText('at redis://u:secret@h:1 and rediss://:x@y'), 'at redis://u@h:1 and rediss://@y');
});
