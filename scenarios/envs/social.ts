/**
 * `social`: a social feed seen from one account (the agent's, `username`): posts with tags and
 * mentions, comments, likes, shares and follows. Modelled on BFCL v3's posting API; written anew.
 * Post and comment ids come from counters in the state; liking, sharing and following twice are
 * tool errors, so a blind retry of one shows up as an error, not as a second effect.
 */
import { z } from 'zod';
import type { EnvArgs, Environment, Operation } from './environment.js';
import {
  counterSchema,
  fail,
  integerParam,
  noIdLeft,
  ok,
  optNum,
  params,
  str,
  stringParam,
  strList,
} from './ops.js';

const postSchema = z.strictObject({
  id: z.int().min(1),
  author: z.string(),
  content: z.string(),
  tags: z.array(z.string()),
  mentions: z.array(z.string()),
  createdAtUs: z.int().min(0),
});

const commentSchema = z.strictObject({
  id: z.int().min(1),
  postId: z.int().min(1),
  author: z.string(),
  content: z.string(),
  createdAtUs: z.int().min(0),
});

const unique = (xs: readonly unknown[]): boolean => new Set(xs).size === xs.length;

export const socialStateSchema = z
  .strictObject({
    /** The account the agent acts as. */
    username: z.string().min(1),
    /** Every account on the network, the agent's included. */
    users: z.array(z.string().min(1)),
    posts: z.array(postSchema),
    comments: z.array(commentSchema),
    /** Accounts the agent follows. */
    following: z.array(z.string()),
    /** Posts the agent liked, and shared. */
    likes: z.array(z.int()),
    shares: z.array(z.int()),
    nextPostId: counterSchema,
    nextCommentId: counterSchema,
  })
  .superRefine((s, ctx) => {
    const problem = (message: string): void => ctx.addIssue({ code: 'custom', message });
    const users = new Set(s.users);
    const posts = new Set(s.posts.map((p) => p.id));
    if (!unique(s.users)) problem('usernames must be unique');
    if (!users.has(s.username)) problem(`username '${s.username}' is not a user`);
    if (posts.size !== s.posts.length) problem('post ids must be unique');
    if (!unique(s.comments.map((c) => c.id))) problem('comment ids must be unique');
    for (const p of s.posts) {
      if (p.id >= s.nextPostId) problem(`post ${p.id} is not below nextPostId`);
      if (!users.has(p.author)) problem(`post ${p.id} has an unknown author`);
    }
    for (const c of s.comments) {
      if (c.id >= s.nextCommentId) problem(`comment ${c.id} is not below nextCommentId`);
      if (!posts.has(c.postId)) problem(`comment ${c.id} is on a post that does not exist`);
      if (!users.has(c.author)) problem(`comment ${c.id} has an unknown author`);
    }
    if (!unique(s.following) || s.following.some((u) => !users.has(u) || u === s.username))
      problem('following must name other users, once each');
    for (const [name, ids] of [
      ['likes', s.likes],
      ['shares', s.shares],
    ] as const)
      if (!unique(ids) || ids.some((id) => !posts.has(id)))
        problem(`${name} must name existing posts, once each`);
  });

export type SocialState = z.infer<typeof socialStateSchema>;
type Post = SocialState['posts'][number];
type Op = Operation<SocialState>;

function shown(s: SocialState, p: Post) {
  return {
    postId: p.id,
    author: p.author,
    content: p.content,
    tags: p.tags,
    mentions: p.mentions,
    comments: s.comments.filter((c) => c.postId === p.id).length,
    likedByYou: s.likes.includes(p.id),
    sharedByYou: s.shares.includes(p.id),
  };
}

function findPost(s: SocialState, args: EnvArgs): Post | string {
  const id = args.postId;
  return s.posts.find((p) => p.id === id) ?? `no post ${id}`;
}

const postIdParam = params({ postId: integerParam('Post id', { minimum: 1 }) }, ['postId']);
const usernameParam = params({ username: stringParam('Username, e.g. alice') }, ['username']);

const createPost: Op = {
  description: 'Publish a post from your account, with optional hashtags and @-mentioned users.',
  parameters: params(
    {
      content: stringParam('Post text', { minLength: 1, maxLength: 5000 }),
      tags: { type: 'array', items: { type: 'string' }, description: 'Hashtags, e.g. #launch' },
      mentions: {
        type: 'array',
        items: { type: 'string' },
        description: 'Usernames to mention (without @)',
      },
    },
    ['content'],
  ),
  readOnly: false,
  apply(s, args, { nowUs }) {
    const tags = args.tags === undefined ? [] : strList(args, 'tags');
    const mentions = args.mentions === undefined ? [] : strList(args, 'mentions');
    const unknown = mentions.find((u) => !s.users.includes(u));
    if (unknown !== undefined) return fail(`no user named '${unknown}'`);
    const full = noIdLeft('post', s.nextPostId);
    if (full !== null) return fail(full);
    const post: Post = {
      id: s.nextPostId,
      author: s.username,
      content: str(args, 'content'),
      tags,
      mentions,
      createdAtUs: nowUs,
    };
    const next = { ...s, posts: [...s.posts, post], nextPostId: post.id + 1 };
    return ok(next, shown(next, post));
  },
};

const getPost: Op = {
  description: 'Get one post by id, with its comment count and whether you liked or shared it.',
  parameters: postIdParam,
  readOnly: true,
  apply(s, args) {
    const p = findPost(s, args);
    return typeof p === 'string' ? fail(p) : ok(s, shown(s, p));
  },
};

const getUserPosts: Op = {
  description: "Get a user's posts, newest first.",
  parameters: params(
    {
      username: stringParam('Username, e.g. alice'),
      limit: integerParam('How many posts at most', { minimum: 1, maximum: 50 }),
    },
    ['username'],
  ),
  readOnly: true,
  apply(s, args) {
    const who = str(args, 'username');
    if (!s.users.includes(who)) return fail(`no user named '${who}'`);
    const limit = optNum(args, 'limit') ?? 50;
    const posts = s.posts.filter((p) => p.author === who).reverse();
    return ok(s, { posts: posts.slice(0, limit).map((p) => shown(s, p)) });
  },
};

const searchPosts: Op = {
  description: 'Find posts whose text or hashtags contain a keyword (ignoring case).',
  parameters: params({ keyword: stringParam('Word or hashtag', { minLength: 1 }) }, ['keyword']),
  readOnly: true,
  apply(s, args) {
    const k = str(args, 'keyword').toLowerCase();
    const hit = (p: Post) =>
      p.content.toLowerCase().includes(k) || p.tags.some((t) => t.toLowerCase().includes(k));
    return ok(s, { posts: s.posts.filter(hit).map((p) => shown(s, p)) });
  },
};

const commentOnPost: Op = {
  description: 'Comment on a post from your account; returns the comment id.',
  parameters: params(
    {
      postId: integerParam('Post id', { minimum: 1 }),
      text: stringParam('Comment text', { minLength: 1, maxLength: 2000 }),
    },
    ['postId', 'text'],
  ),
  readOnly: false,
  apply(s, args, { nowUs }) {
    const p = findPost(s, args);
    if (typeof p === 'string') return fail(p);
    const full = noIdLeft('comment', s.nextCommentId);
    if (full !== null) return fail(full);
    const c = {
      id: s.nextCommentId,
      postId: p.id,
      author: s.username,
      content: str(args, 'text'),
      createdAtUs: nowUs,
    };
    const next = { ...s, comments: [...s.comments, c], nextCommentId: c.id + 1 };
    return ok(next, { commentId: c.id, postId: p.id });
  },
};

const getPostComments: Op = {
  description: "List a post's comments, oldest first.",
  parameters: postIdParam,
  readOnly: true,
  apply(s, args) {
    const p = findPost(s, args);
    if (typeof p === 'string') return fail(p);
    const comments = s.comments
      .filter((c) => c.postId === p.id)
      .map((c) => ({ commentId: c.id, author: c.author, content: c.content }));
    return ok(s, { comments });
  },
};

const likePost: Op = {
  description: 'Like a post from your account.',
  parameters: postIdParam,
  readOnly: false,
  apply(s, args) {
    const p = findPost(s, args);
    if (typeof p === 'string') return fail(p);
    if (s.likes.includes(p.id)) return fail(`you already liked post ${p.id}`);
    return ok({ ...s, likes: [...s.likes, p.id] }, { liked: p.id });
  },
};

const sharePost: Op = {
  description: "Share (retweet) another user's post to your followers.",
  parameters: postIdParam,
  readOnly: false,
  apply(s, args) {
    const p = findPost(s, args);
    if (typeof p === 'string') return fail(p);
    if (p.author === s.username) return fail('cannot share your own post');
    if (s.shares.includes(p.id)) return fail(`you already shared post ${p.id}`);
    return ok({ ...s, shares: [...s.shares, p.id] }, { shared: p.id });
  },
};

const followUser: Op = {
  description: 'Follow a user from your account.',
  parameters: usernameParam,
  readOnly: false,
  apply(s, args) {
    const who = str(args, 'username');
    if (!s.users.includes(who)) return fail(`no user named '${who}'`);
    if (who === s.username) return fail('cannot follow yourself');
    if (s.following.includes(who)) return fail(`already following '${who}'`);
    return ok({ ...s, following: [...s.following, who] }, { following: who });
  },
};

const unfollowUser: Op = {
  description: 'Stop following a user.',
  parameters: usernameParam,
  readOnly: false,
  apply(s, args) {
    const who = str(args, 'username');
    if (!s.following.includes(who)) return fail(`not following '${who}'`);
    return ok({ ...s, following: s.following.filter((u) => u !== who) }, { unfollowed: who });
  },
};

const listFollowing: Op = {
  description: 'List the users your account follows.',
  parameters: params({}),
  readOnly: true,
  apply: (s) => ok(s, { following: s.following }),
};

const deletePost: Op = {
  description: 'Delete one of your own posts, with its comments, likes and shares.',
  parameters: postIdParam,
  readOnly: false,
  apply(s, args) {
    const p = findPost(s, args);
    if (typeof p === 'string') return fail(p);
    if (p.author !== s.username) return fail(`post ${p.id} is not yours`);
    const next = {
      ...s,
      posts: s.posts.filter((x) => x.id !== p.id),
      comments: s.comments.filter((c) => c.postId !== p.id),
      likes: s.likes.filter((id) => id !== p.id),
      shares: s.shares.filter((id) => id !== p.id),
    };
    return ok(next, { deleted: p.id });
  },
};

const getUserStats: Op = {
  description: "Count a user's posts and comments, and say whether you follow them.",
  parameters: usernameParam,
  readOnly: true,
  apply(s, args) {
    const who = str(args, 'username');
    if (!s.users.includes(who)) return fail(`no user named '${who}'`);
    return ok(s, {
      username: who,
      posts: s.posts.filter((p) => p.author === who).length,
      comments: s.comments.filter((c) => c.author === who).length,
      followedByYou: s.following.includes(who),
    });
  },
};

export const social: Environment<SocialState> = {
  name: 'social',
  description:
    'A social feed seen from your account: posting, commenting, liking, sharing and following.',
  stateSchema: socialStateSchema,
  emptyState: {
    username: 'me',
    users: ['me'],
    posts: [],
    comments: [],
    following: [],
    likes: [],
    shares: [],
    nextPostId: 1,
    nextCommentId: 1,
  },
  operations: {
    create_post: createPost,
    get_post: getPost,
    get_user_posts: getUserPosts,
    search_posts: searchPosts,
    comment_on_post: commentOnPost,
    get_post_comments: getPostComments,
    like_post: likePost,
    share_post: sharePost,
    follow_user: followUser,
    unfollow_user: unfollowUser,
    list_following: listFollowing,
    delete_post: deletePost,
    get_user_stats: getUserStats,
  },
};
