import { useState } from 'react';
import Login from './Login.jsx';
import Feed from './Feed.jsx';

// App keeps the session in localStorage, as the Node app's front end does,
// and shows the login form or the feed; no router, so nothing navigates.
export default function App() {
  const [session, setSession] = useState(() => {
    const token = localStorage.getItem('token');
    return token ? { token, userId: localStorage.getItem('userId') } : null;
  });

  function login({ token, userId }) {
    localStorage.setItem('token', token);
    localStorage.setItem('userId', userId);
    setSession({ token, userId });
  }

  function logout() {
    localStorage.removeItem('token');
    localStorage.removeItem('userId');
    setSession(null);
  }

  return (
    <>
      <header>
        <strong className="grow">Feed</strong>
        <span className="meta" data-testid="client-build">socket.io-client {__SIO_CLIENT__}</span>
        {session && (
          <button type="button" data-testid="logout" onClick={logout}>
            Logout
          </button>
        )}
      </header>
      <main>{session ? <Feed token={session.token} userId={session.userId} /> : <Login onLogin={login} />}</main>
    </>
  );
}
