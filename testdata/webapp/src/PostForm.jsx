import { useState } from 'react';
import { imageSrc, request } from './api.js';

// PostForm creates a post (POST /feed/post) or edits one (PUT
// /feed/post/:id) with multipart/form-data. When editing without picking a
// new file it sends the field `image` holding the existing imageUrl, as
// the Node app's front end does.
export default function PostForm({ token, post, onSaved, onCancel }) {
  const [title, setTitle] = useState(post ? post.title : '');
  const [content, setContent] = useState(post ? post.content : '');
  const [file, setFile] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  async function submit(e) {
    e.preventDefault();
    const form = new FormData();
    form.append('title', title);
    form.append('content', content);
    if (file) form.append('image', file);
    else if (post) form.append('image', post.imageUrl);
    setBusy(true);
    setError('');
    try {
      const res = post
        ? await request(`/feed/post/${post._id}`, { method: 'PUT', token, form })
        : await request('/feed/post', { method: 'POST', token, form });
      onSaved(res.post, !post);
    } catch (err) {
      const details = (err.data || []).map((d) => d.msg).filter(Boolean);
      setError([err.message, ...details].join(' '));
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} data-testid="post-form">
      <label>
        Title <input data-testid="form-title" value={title} onChange={(e) => setTitle(e.target.value)} />
      </label>
      <label>
        Content <textarea data-testid="form-content" rows={3} value={content} onChange={(e) => setContent(e.target.value)} />
      </label>
      <label>
        Image{' '}
        <input type="file" accept="image/png,image/jpeg,image/webp" data-testid="form-image" onChange={(e) => setFile(e.target.files[0] || null)} />
      </label>
      {post && !file && <img src={imageSrc(post.imageUrl)} alt="current" data-testid="form-preview" />}
      <div>
        <button type="button" data-testid="form-cancel" onClick={onCancel} disabled={busy}>
          Cancel
        </button>{' '}
        <button type="submit" data-testid="form-submit" disabled={busy}>
          {post ? 'Update' : 'Create'}
        </button>
      </div>
      {error && (
        <p className="error" data-testid="form-error">
          {error}
        </p>
      )}
    </form>
  );
}
