import { useCallback, useEffect, useRef, useState } from 'react';
import io from 'socket.io-client';
import { API, imageSrc, request } from './api.js';
import PostForm from './PostForm.jsx';

// The server's page size (POSTS_PER_PAGE); live creates keep page 1 at it.
const PER_PAGE = 2;

// Live records what the page saw, for the browser test to read.
const live = (window.__feed = window.__feed || { events: [], socket: [], loads: 0 });

// Feed shows one page of posts, keeps it live through the `posts` events,
// and lets the user create, edit and delete posts.
export default function Feed({ token, userId }) {
  const [feed, setFeed] = useState({ page: 1, posts: [], total: 0 });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const [socketState, setSocketState] = useState('connecting');
  const [transport, setTransport] = useState('');
  const [editing, setEditing] = useState(null); // null, 'new' or the post being edited
  const pageRef = useRef(1); // the page the socket handler reloads on delete

  const loadPosts = useCallback(
    async (page) => {
      pageRef.current = page;
      setLoading(true);
      try {
        const res = await request(`/feed/posts?page=${page}`, { token });
        live.loads++;
        if (pageRef.current !== page) return; // the user moved on meanwhile
        setFeed({ page, posts: res.posts, total: res.totalItems });
        setError('');
      } catch (err) {
        setFeed({ page, posts: [], total: 0 });
        setError(`Fetching posts failed: ${err.message}`);
      } finally {
        setLoading(false);
      }
    },
    [token],
  );

  useEffect(() => {
    loadPosts(1);
  }, [loadPosts]);

  useEffect(() => {
    const socket = io(API);
    const mark = (state) => {
      live.socket.push(state);
      setSocketState(state);
    };
    socket.io.on('open', () => {
      const engine = socket.io.engine;
      setTransport(engine.transport.name);
      engine.on('upgrade', (t) => setTransport(t.name));
    });
    socket.on('connect', () => mark('connected'));
    socket.on('connect_error', (err) => mark(`error: ${err && err.message}`));
    socket.on('disconnect', (reason) => mark(`disconnected: ${reason}`));
    socket.on('posts', (data) => {
      live.events.push(data.action);
      if (data.action === 'create') {
        addPost(data.post);
      } else if (data.action === 'update') {
        updatePost(data.post);
      } else if (data.action === 'delete') {
        loadPosts(pageRef.current);
      }
    });
    return () => socket.close();
  }, [loadPosts]);

  // addPost puts a new post at the top of page 1 and keeps the page size.
  // The author's page gets the post twice (the response and the event);
  // the second time it only replaces it.
  function addPost(post) {
    setFeed((f) => {
      if (f.posts.some((p) => p._id === post._id)) {
        return { ...f, posts: f.posts.map((p) => (p._id === post._id ? post : p)) };
      }
      if (f.page !== 1) return { ...f, total: f.total + 1 };
      return { ...f, posts: [post, ...f.posts].slice(0, PER_PAGE), total: f.total + 1 };
    });
  }

  function updatePost(post) {
    setFeed((f) => ({ ...f, posts: f.posts.map((p) => (p._id === post._id ? post : p)) }));
  }

  async function deletePost(post) {
    try {
      await request(`/feed/post/${post._id}`, { method: 'DELETE', token });
      loadPosts(pageRef.current);
    } catch (err) {
      setError(`Deleting the post failed: ${err.message}`);
    }
  }

  function saved(post, created) {
    setEditing(null);
    if (created) addPost(post);
    else updatePost(post);
  }

  const lastPage = Math.max(1, Math.ceil(feed.total / PER_PAGE));
  return (
    <section>
      <p className="meta">
        Live updates: <span data-testid="socket-status">{socketState}</span>{' '}
        <span data-testid="socket-transport">{transport}</span>
      </p>
      {editing ? (
        <PostForm
          key={editing === 'new' ? 'new' : editing._id}
          token={token}
          post={editing === 'new' ? null : editing}
          onSaved={saved}
          onCancel={() => setEditing(null)}
        />
      ) : (
        <button type="button" data-testid="new-post" onClick={() => setEditing('new')}>
          New Post
        </button>
      )}
      {error && (
        <p className="error" data-testid="feed-error">
          {error}
        </p>
      )}
      {loading && <p data-testid="feed-loading">Loading…</p>}
      {!loading && !error && feed.posts.length === 0 && <p data-testid="feed-empty">No posts found.</p>}
      <div data-testid="posts" data-total={feed.total} data-page={feed.page}>
        {feed.posts.map((post) => (
          <article key={post._id} data-testid="post" data-id={post._id}>
            <p className="meta">
              Posted by <span data-testid="post-creator">{post.creator && post.creator.name}</span> on{' '}
              {new Date(post.createdAt).toLocaleDateString('en-US')}
            </p>
            <h2 data-testid="post-title">{post.title}</h2>
            <img data-testid="post-image" src={imageSrc(post.imageUrl)} alt={post.title} />
            <p data-testid="post-content">{post.content}</p>
            {post.creator && post.creator._id === userId && (
              <>
                <button type="button" data-testid="post-edit" onClick={() => setEditing(post)}>
                  Edit
                </button>{' '}
                <button type="button" data-testid="post-delete" onClick={() => deletePost(post)}>
                  Delete
                </button>
              </>
            )}
          </article>
        ))}
      </div>
      <div className="pager">
        <button type="button" data-testid="page-prev" disabled={feed.page <= 1} onClick={() => loadPosts(feed.page - 1)}>
          Previous
        </button>
        <span data-testid="page-number">{feed.page}</span>
        <button type="button" data-testid="page-next" disabled={feed.page >= lastPage} onClick={() => loadPosts(feed.page + 1)}>
          Next
        </button>
      </div>
    </section>
  );
}
