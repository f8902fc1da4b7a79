import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { social, type SocialState } from '../../../scenarios/envs/social.js';
import {
  applyAll,
  applyError,
  applyOk,
  argsOf,
  call,
  contractProperties,
  type Call,
} from './harness.js';

const PEOPLE = ['me', 'alice', 'bob', 'carol'];
const NAMES = [...PEOPLE, 'zed'];

/** A network of 1-4 accounts with a few posts, comments and follows. */
const stateArb: fc.Arbitrary<SocialState> = fc
  .record({
    n: fc.integer({ min: 1, max: 4 }),
    posts: fc.array(fc.record({ by: fc.nat(3), text: fc.constantFrom('Launch day', 'cats') }), {
      maxLength: 5,
    }),
    comments: fc.array(fc.record({ on: fc.nat(5), by: fc.nat(3) }), { maxLength: 4 }),
    follow: fc.subarray([1, 2, 3]),
    like: fc.subarray([1, 2, 3, 4, 5]),
  })
  .map(({ n, posts: raw, comments: rawComments, follow, like }) => {
    const users = PEOPLE.slice(0, n);
    const posts = raw
      .filter((p) => p.by < n)
      .map((p, i) => ({
        id: i + 1,
        author: users[p.by]!,
        content: p.text,
        tags: p.text === 'cats' ? ['#Cats'] : [],
        mentions: [],
        createdAtUs: 0,
      }));
    const comments = rawComments
      .filter((c) => c.on >= 1 && c.on <= posts.length && c.by < n)
      .map((c, i) => ({
        id: i + 1,
        postId: c.on,
        author: users[c.by]!,
        content: 'nice',
        createdAtUs: 0,
      }));
    return {
      username: 'me',
      users,
      posts,
      comments,
      following: follow.filter((i) => i < n).map((i) => users[i]!),
      likes: like.filter((id) => id <= posts.length),
      shares: [],
      nextPostId: posts.length + 1,
      nextCommentId: comments.length + 1,
    };
  });

const postId = fc.integer({ min: 1, max: 8 });
const username = fc.constantFrom(...NAMES);
const callArb: fc.Arbitrary<Call> = fc.oneof(
  call(
    'create_post',
    argsOf(
      {
        content: fc.constantFrom('hello world', 'Cats rule'),
        tags: fc.constant(['#cats']),
        mentions: fc.subarray(NAMES, { maxLength: 2 }),
      },
      ['content'],
    ),
  ),
  call('get_post', argsOf({ postId })),
  call('get_user_posts', argsOf({ username, limit: fc.integer({ min: 1, max: 3 }) }, ['username'])),
  call('search_posts', argsOf({ keyword: fc.constantFrom('cats', 'LAUNCH', 'zzz') })),
  call('comment_on_post', argsOf({ postId, text: fc.constant('great') })),
  call('get_post_comments', argsOf({ postId })),
  call('like_post', argsOf({ postId })),
  call('share_post', argsOf({ postId })),
  call('follow_user', argsOf({ username })),
  call('unfollow_user', argsOf({ username })),
  call('list_following'),
  call('delete_post', argsOf({ postId })),
  call('get_user_stats', argsOf({ username })),
);

/** Ids unique; comments, likes and shares point at posts that exist. */
function invariant(s: SocialState): string | null {
  const posts = new Set(s.posts.map((p) => p.id));
  if (posts.size !== s.posts.length) return 'duplicate post id';
  if (new Set(s.comments.map((c) => c.id)).size !== s.comments.length)
    return 'duplicate comment id';
  if (s.comments.some((c) => !posts.has(c.postId))) return 'a comment on a deleted post';
  if ([...s.likes, ...s.shares].some((id) => !posts.has(id))) return 'a like or share of no post';
  if (new Set(s.following).size !== s.following.length) return 'a user followed twice';
  if (s.following.includes(s.username)) return 'following yourself';
  return null;
}

describe('social environment: properties', () => {
  contractProperties({ env: social, initial: stateArb, call: callArb, invariant, numRuns: 2000 });
});

const base: SocialState = {
  username: 'me',
  users: ['me', 'alice', 'bob'],
  posts: [
    {
      id: 1,
      author: 'alice',
      content: 'Launch day',
      tags: ['#launch'],
      mentions: [],
      createdAtUs: 0,
    },
    { id: 2, author: 'me', content: 'my cat', tags: [], mentions: ['alice'], createdAtUs: 1 },
    { id: 3, author: 'alice', content: 'second', tags: [], mentions: [], createdAtUs: 2 },
  ],
  comments: [{ id: 1, postId: 2, author: 'bob', content: 'cute', createdAtUs: 3 }],
  following: ['alice'],
  likes: [1],
  shares: [],
  nextPostId: 4,
  nextCommentId: 2,
};

describe('social environment: operations', () => {
  it('creates a post stamped with the completion time, and refuses unknown mentions', () => {
    const args = { content: 'Hi', tags: ['#x'], mentions: ['bob'] };
    const { state, result } = applyOk(social, base, 'create_post', args, 7000);
    expect(result).toMatchObject({ postId: 4, author: 'me', content: 'Hi', comments: 0 });
    expect(state.posts.at(-1)).toEqual({
      id: 4,
      author: 'me',
      content: 'Hi',
      tags: ['#x'],
      mentions: ['bob'],
      createdAtUs: 7000,
    });
    expect(state.nextPostId).toBe(5);
    expect(applyError(social, base, 'create_post', { content: 'x', mentions: ['zed'] })).toBe(
      "no user named 'zed'",
    );
  });

  it('gets a post with what you did to it, or says there is none', () => {
    expect(applyOk(social, base, 'get_post', { postId: 1 }).result).toEqual({
      postId: 1,
      author: 'alice',
      content: 'Launch day',
      tags: ['#launch'],
      mentions: [],
      comments: 0,
      likedByYou: true,
      sharedByYou: false,
    });
    expect(applyError(social, base, 'get_post', { postId: 9 })).toBe('no post 9');
  });

  it("lists a user's posts newest first, limited", () => {
    const r = applyOk(social, base, 'get_user_posts', { username: 'alice' }).result as {
      posts: Array<{ postId: number }>;
    };
    expect(r.posts.map((p) => p.postId)).toEqual([3, 1]);
    const one = applyOk(social, base, 'get_user_posts', { username: 'alice', limit: 1 }).result;
    expect((one as { posts: unknown[] }).posts).toHaveLength(1);
    expect(applyError(social, base, 'get_user_posts', { username: 'zed' })).toBe(
      "no user named 'zed'",
    );
  });

  it('searches text and hashtags ignoring case', () => {
    const ids = (k: string) =>
      (
        applyOk(social, base, 'search_posts', { keyword: k }).result as {
          posts: Array<{ postId: number }>;
        }
      ).posts.map((p) => p.postId);
    expect(ids('LAUNCH')).toEqual([1]);
    expect(ids('cat')).toEqual([2]);
    expect(ids('nothing')).toEqual([]);
  });

  it('comments on a post and lists its comments oldest first', () => {
    const { state, result } = applyOk(social, base, 'comment_on_post', { postId: 2, text: 'ty' });
    expect(result).toEqual({ commentId: 2, postId: 2 });
    expect(applyOk(social, state, 'get_post_comments', { postId: 2 }).result).toEqual({
      comments: [
        { commentId: 1, author: 'bob', content: 'cute' },
        { commentId: 2, author: 'me', content: 'ty' },
      ],
    });
    expect(applyError(social, base, 'comment_on_post', { postId: 9, text: 'x' })).toBe('no post 9');
    expect(applyError(social, base, 'get_post_comments', { postId: 9 })).toBe('no post 9');
  });

  it('likes a post once', () => {
    expect(applyOk(social, base, 'like_post', { postId: 3 }).state.likes).toEqual([1, 3]);
    expect(applyError(social, base, 'like_post', { postId: 1 })).toBe('you already liked post 1');
    expect(applyError(social, base, 'like_post', { postId: 9 })).toBe('no post 9');
  });

  it("shares another user's post once, never your own", () => {
    const s = applyOk(social, base, 'share_post', { postId: 1 }).state;
    expect(s.shares).toEqual([1]);
    expect(applyError(social, s, 'share_post', { postId: 1 })).toBe('you already shared post 1');
    expect(applyError(social, base, 'share_post', { postId: 2 })).toBe(
      'cannot share your own post',
    );
    expect(applyError(social, base, 'share_post', { postId: 9 })).toBe('no post 9');
  });

  it('follows and unfollows users, with the errors of each', () => {
    const s = applyOk(social, base, 'follow_user', { username: 'bob' }).state;
    expect(applyOk(social, s, 'list_following').result).toEqual({ following: ['alice', 'bob'] });
    expect(applyError(social, s, 'follow_user', { username: 'bob' })).toBe(
      "already following 'bob'",
    );
    expect(applyError(social, s, 'follow_user', { username: 'me' })).toBe('cannot follow yourself');
    expect(applyError(social, s, 'follow_user', { username: 'zed' })).toBe("no user named 'zed'");
    const t = applyOk(social, s, 'unfollow_user', { username: 'alice' }).state;
    expect(t.following).toEqual(['bob']);
    expect(applyError(social, t, 'unfollow_user', { username: 'alice' })).toBe(
      "not following 'alice'",
    );
  });

  it('deletes your own post with its comments, likes and shares; not others', () => {
    const s = applyAll(social, base, [['like_post', { postId: 2 }]]);
    const { state, result } = applyOk(social, s, 'delete_post', { postId: 2 });
    expect(result).toEqual({ deleted: 2 });
    expect(state.posts.map((p) => p.id)).toEqual([1, 3]);
    expect(state.comments).toEqual([]);
    expect(state.likes).toEqual([1]);
    expect(applyError(social, base, 'delete_post', { postId: 1 })).toBe('post 1 is not yours');
    expect(applyError(social, state, 'delete_post', { postId: 2 })).toBe('no post 2');
  });

  it("counts a user's posts and comments", () => {
    expect(applyOk(social, base, 'get_user_stats', { username: 'alice' }).result).toEqual({
      username: 'alice',
      posts: 2,
      comments: 0,
      followedByYou: true,
    });
    expect(applyError(social, base, 'get_user_stats', { username: 'zed' })).toBe(
      "no user named 'zed'",
    );
  });

  it('rejects states that break its invariants', () => {
    const bad = (patch: Partial<SocialState>) =>
      social.stateSchema.safeParse({ ...base, ...patch });
    expect(bad({}).success).toBe(true);
    expect(bad({ nextPostId: 3 }).success).toBe(false);
    expect(bad({ likes: [9] }).success).toBe(false);
    expect(bad({ following: ['me'] }).success).toBe(false);
    expect(bad({ following: ['alice', 'alice'] }).success).toBe(false);
    expect(bad({ comments: [{ ...base.comments[0]!, postId: 9 }] }).success).toBe(false);
    expect(bad({ username: 'zed' }).success).toBe(false);
  });
});
