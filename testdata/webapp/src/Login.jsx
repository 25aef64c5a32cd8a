import { useState } from 'react';
import { request } from './api.js';

// Login posts the credentials to /auth/login and hands the token up.
export default function Login({ onLogin }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const res = await request('/auth/login', { method: 'POST', json: { email, password } });
      onLogin({ token: res.token, userId: res.userId });
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} data-testid="login-form">
      <label>
        E-Mail <input type="email" data-testid="login-email" value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Password{' '}
        <input type="password" data-testid="login-password" value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <button type="submit" data-testid="login-submit" disabled={busy}>
        Login
      </button>
      {error && (
        <p className="error" data-testid="login-error">
          {error}
        </p>
      )}
    </form>
  );
}
