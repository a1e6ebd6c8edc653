// One grpc-js client per remote frontend address, shared by every receiver of the process.
import * as grpc from '@grpc/grpc-js';
import { MAX_MESSAGE_BYTES } from '../services/rpc/definition.js';
import { ReplicationServiceClient, type StreamShardRequest, type StreamShardResponse } from '../proto/gen/tandem/replication/v1/replication.js';

export type ReceiverCall = grpc.ClientDuplexStream<StreamShardRequest, StreamShardResponse>;

const channelOptions: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  // A region that comes back is streamed from within a second or two, not grpc's two minutes.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
  // A link that goes silent is noticed by keepalive (the stream carries acks in between).
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
};

export class StreamClients {
  private readonly clients = new Map<string, InstanceType<typeof ReplicationServiceClient>>();

  open(address: string): ReceiverCall {
    let client = this.clients.get(address);
    if (!client) {
      client = new ReplicationServiceClient(address, grpc.credentials.createInsecure(), channelOptions);
      this.clients.set(address, client);
    }
    return client.streamShard();
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
