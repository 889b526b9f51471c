import { ConditionalCheckFailedException, DynamoDBClient, InternalServerError } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import { GENERIC_MESSAGE } from '../../functions/common/errors.ts';
import { linkToken, privateParameters, secretHash, type PrivateChallenge } from '../../functions/common/passwordless.ts';
import { verifyAnswer, type VerifyDeps } from '../../functions/verify-auth-challenge-response/logic.ts';
import { awsJsonError, withAwsEndpoint } from '../fixtures/aws-endpoint.ts';
import { withEnvironment } from '../fixtures/env.ts';
import { EMAIL, verifyAuthChallengeEvent } from '../fixtures/events.ts';
import { quietLogger } from '../fixtures/logs.ts';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const ID = '0123456789abcdef0123456789abcdef';
const OTHER_ID = 'fedcba9876543210fedcba9876543210';
const CODE = '042917';
const SECRET = 'q'.repeat(43);
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

function challenge(step: 'code' | 'link', overrides: Partial<PrivateChallenge> = {}): Record<string, string> {
  return privateParameters({ step, challengeId: ID, hash: secretHash(ID, step, step === 'code' ? CODE : SECRET), validUntil: T0 + 900_000, ...overrides });
}

describe('verify-auth-challenge-response', () => {
  quietLogger();
  let ddb: AwsClientStub<DynamoDBDocumentClient>;
  before(() => {
    ddb = mockClient(DynamoDBDocumentClient);
  });
  after(() => ddb.restore());
  let clock = T0;
  const deps = (): VerifyDeps => ({ db: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })), tableName: 'data', now: () => clock });
  beforeEach(() => {
    ddb.reset();
    ddb.on(UpdateCommand).resolves({}).on(PutCommand).resolves({});
    clock = T0;
  });
  const verify = (privateChallengeParameters: Record<string, string>, challengeAnswer: string, extra: { userNotFound?: boolean } = {}) =>
    verifyAnswer(deps(), verifyAuthChallengeEvent({ privateChallengeParameters, challengeAnswer, ...extra }));

  it('accepts the right code once, consuming its challenge with a conditional write, and leaves the audit marker', async () => {
    expect(await verify(challenge('code'), CODE)).to.deep.equal({ correct: true });
    const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update.Key).to.deep.equal({ pk: `PASSWORDLESS#${EMAIL}`, sk: `CHALLENGE#${ID}` });
    expect(update.ConditionExpression).to.equal('attribute_exists(pk) AND attribute_not_exists(usedAt) AND #hash = :hash AND validUntil > :now');
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).to.deep.equal({ pk: `PASSWORDLESS#${EMAIL}`, sk: 'SIGN-IN', method: 'code', at: T0, expiresAt: T0 / 1000 + 60 });
  });

  it('accepts the right link token once and audits it as a magic link', async () => {
    expect(await verify(challenge('link'), linkToken(ID, SECRET))).to.deep.equal({ correct: true });
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).to.include({ method: 'magic-link' });
  });

  it('refuses a wrong code or a wrong link secret, writing nothing', async () => {
    expect(await verify(challenge('code'), '042918')).to.deep.equal({ correct: false, reason: 'wrong-answer' });
    expect(await verify(challenge('link'), linkToken(ID, 'r'.repeat(43)))).to.deep.equal({ correct: false, reason: 'wrong-answer' });
    expect(ddb.calls()).to.have.length(0);
  });

  it('refuses a link from another session (another challenge id), even with its own right secret', async () => {
    const otherSession = privateParameters({ step: 'link', challengeId: OTHER_ID, hash: secretHash(OTHER_ID, 'link', SECRET), validUntil: T0 + 900_000 });
    expect(await verify(otherSession, linkToken(ID, SECRET))).to.deep.equal({ correct: false, reason: 'wrong-answer' });
    expect(await verify(challenge('link'), linkToken(OTHER_ID, SECRET))).to.deep.equal({ correct: false, reason: 'wrong-answer' });
  });

  it('refuses a code given for a link and a link for a code', async () => {
    expect(await verify(challenge('link'), CODE)).to.deep.equal({ correct: false, reason: 'malformed-answer' });
    expect(await verify(challenge('code'), linkToken(ID, SECRET))).to.deep.equal({ correct: false, reason: 'malformed-answer' });
    // The code's hash under the link kind is another hash: a stored code hash cannot accept a link.
    expect(secretHash(ID, 'code', CODE)).to.not.equal(secretHash(ID, 'link', CODE));
  });

  it('refuses malformed answers: empty, padded, non-digits, too long', async () => {
    for (const answer of ['', ` ${CODE}`, `${CODE} `, '04291', '0429170', '٠٤٢٩١٧', 'abcdef', CODE.repeat(100)]) {
      expect(await verify(challenge('code'), answer), JSON.stringify(answer)).to.include({ correct: false });
    }
    expect(ddb.calls()).to.have.length(0);
  });

  it('refuses the right answer once it has expired, at the exact millisecond', async () => {
    clock = T0 + 900_000;
    expect(await verify(challenge('code'), CODE)).to.deep.equal({ correct: false, reason: 'expired' });
    clock = T0 + 899_999;
    expect(await verify(challenge('code'), CODE)).to.deep.equal({ correct: true });
  });

  it('refuses the right answer a second time: the conditional write fails once the challenge is used', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    expect(await verify(challenge('code'), CODE)).to.deep.equal({ correct: false, reason: 'already-used' });
    expect(ddb.commandCalls(PutCommand)).to.have.length(0);
  });

  it('refuses every answer of an unknown user, even one matching the stand-in hash', async () => {
    expect(await verify(challenge('code'), CODE, { userNotFound: true })).to.deep.equal({ correct: false, reason: 'user-not-found' });
    expect(ddb.calls()).to.have.length(0);
  });

  it('refuses answers to the method round and to private parameters it did not write', async () => {
    expect(await verify({ step: 'method' }, 'anything')).to.deep.equal({ correct: false, reason: 'not-a-secret-round' });
    for (const params of [{}, { ...challenge('code'), hash: 'x' }, { ...challenge('code'), validUntil: 'soon' }, { ...challenge('code'), challengeId: '../x' }, { ...challenge('code'), step: 'sms' }]) {
      expect(await verify(params, CODE)).to.deep.equal({ correct: false, reason: 'not-a-secret-round' });
    }
  });

  it('fails closed when the challenge cannot be consumed, and still accepts when only the audit marker is lost', async () => {
    ddb.on(UpdateCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));
    expect(await verify(challenge('code'), CODE).catch((e: Error) => e.name)).to.equal('InternalServerError');
    ddb.reset();
    ddb.on(UpdateCommand).resolves({}).on(PutCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));
    expect(await verify(challenge('code'), CODE)).to.deep.equal({ correct: true });
  });

  describe('handler', () => {
    withEnvironment({ TABLE_NAME: 'data' });
    // The handler's client is the synchronous triggers' own (functions/common/aws-clients.ts): a loopback endpoint answers it.
    const aws = withAwsEndpoint();
    beforeEach(() => aws.reset());

    it('answers with answerCorrect only, consumes the code on the wire, and turns a storage failure into the generic message', async () => {
      // Imported after its environment is set, through a separate module graph, so its client is built against the endpoint.
      const { handler } = (await import(new URL('../../functions/verify-auth-challenge-response/index.ts?handler-test', import.meta.url).href)) as typeof import('../../functions/verify-auth-challenge-response/index.ts');
      const wrong = await handler(verifyAuthChallengeEvent({ privateChallengeParameters: challenge('code'), challengeAnswer: '000000' }));
      expect(wrong.response).to.deep.equal({ answerCorrect: false });
      const live = challenge('code', { validUntil: Date.now() + 60_000 });
      aws.on('UpdateItem', () => ({})).on('PutItem', () => ({}));
      const right = await handler(verifyAuthChallengeEvent({ privateChallengeParameters: live, challengeAnswer: CODE }));
      expect(right.response).to.deep.equal({ answerCorrect: true });
      const consumed = aws.inputs('UpdateItem');
      expect(consumed).to.have.length(1);
      expect(consumed[0]).to.include({ TableName: 'data' });
      aws.reset();
      aws.on('UpdateItem', () => awsJsonError('com.amazonaws.dynamodb.v20120810#InternalServerError', 500, 'boom'));
      const error = await handler(verifyAuthChallengeEvent({ privateChallengeParameters: live, challengeAnswer: CODE })).catch((e: unknown) => e);
      expect(error).to.include({ name: 'UserFacingError', message: GENERIC_MESSAGE });
      // The budget's two attempts, then the refusal.
      expect(aws.operations()).to.deep.equal(['UpdateItem', 'UpdateItem']);
    });
  });
});
