import { describe, expect, it } from 'vitest';
import { checkEmail, checkPassword, checkUsername, fieldFromServerMessage, utf8Length } from './validation';

describe('account rules', () => {
  it('username: 3–32 of [A-Za-z0-9_.-]', () => {
    expect(checkUsername('')).toBe('required');
    expect(checkUsername('ab')).toBe('length');
    expect(checkUsername('a'.repeat(33))).toBe('length');
    expect(checkUsername('abc')).toBeNull();
    expect(checkUsername('A.b-c_9')).toBeNull();
    expect(checkUsername('a'.repeat(32))).toBeNull();
    expect(checkUsername('bad name')).toBe('charset');
    expect(checkUsername('名字名字')).toBe('charset');
    expect(checkUsername('a@b')).toBe('charset');
  });

  it('email', () => {
    expect(checkEmail('')).toBe('required');
    expect(checkEmail('a@example.com')).toBeNull();
    expect(checkEmail('a.b+c@sub.example.cn')).toBeNull();
    expect(checkEmail('a@b')).toBe('invalid');
    expect(checkEmail('a b@example.com')).toBe('invalid');
    expect(checkEmail('@example.com')).toBe('invalid');
  });

  it('password: 8–72 bytes of UTF-8', () => {
    expect(utf8Length('密码')).toBe(6);
    expect(checkPassword('')).toBe('required');
    expect(checkPassword('1234567')).toBe('too_short');
    expect(checkPassword('12345678')).toBeNull();
    expect(checkPassword('密码密')).toBeNull(); // 3 characters, 9 bytes
    expect(checkPassword('a'.repeat(72))).toBeNull();
    expect(checkPassword('a'.repeat(73))).toBe('too_long');
    expect(checkPassword('密'.repeat(25))).toBe('too_long'); // 25 characters, 75 bytes
  });

  it('password differs from the username and the email', () => {
    expect(checkPassword('alice_1234', { username: 'alice_1234' })).toBe('same_as_username');
    expect(checkPassword('Alice_1234', { username: 'alice_1234' })).toBe('same_as_username');
    expect(checkPassword('a@example.com', { username: 'x', email: 'a@example.com' })).toBe('same_as_email');
    expect(checkPassword('something-else', { username: 'alice', email: 'a@example.com' })).toBeNull();
  });

  it('finds the field a server validation message is about', () => {
    expect(fieldFromServerMessage('password must be 8-72 bytes', ['username', 'email', 'password'])).toBe('password');
    expect(fieldFromServerMessage('display name too long', ['username', 'display_name'])).toBe('display_name');
    expect(fieldFromServerMessage('bad request', ['username'])).toBeNull();
  });
});
