import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Matches } from 'class-validator';
import { NODE_ID_RE } from '@edge/xds-pki';

export const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const SHA256_RE = /^[0-9a-f]{64}$/;

export class UploadQueryDto {
  @ApiProperty({ example: 'v2', description: 'A new, unique version label' })
  @IsString()
  @Matches(VERSION_RE, { message: 'version must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}' })
  version!: string;

  @ApiProperty({
    description: 'SHA-256 of the body, lower-case hex: the upload is refused unless it matches',
  })
  @IsString()
  @Matches(SHA256_RE, { message: 'sha256 must be 64 lower-case hex digits' })
  sha256!: string;
}

export class NodesDto {
  @ApiProperty({ example: ['echo-sidecar'], description: 'Nodes to change' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @Matches(NODE_ID_RE, { each: true, message: 'nodes entries must be node ids' })
  nodes!: string[];
}

export class RolloutDto extends NodesDto {
  @ApiProperty({ example: 'v2', description: 'An uploaded version' })
  @IsString()
  @Matches(VERSION_RE, { message: 'version must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}' })
  version!: string;
}

export class WasmModuleDto {
  @ApiProperty() version!: string;
  @ApiProperty() sha256!: string;
  @ApiProperty() sizeBytes!: number;
  @ApiPropertyOptional() createdAt?: string;
}

export class NodeWasmDto {
  @ApiProperty() nodeId!: string;
  @ApiProperty({
    description: 'The version the node runs (builtin: the module its template names)',
  })
  version!: string;
  @ApiProperty() sha256!: string;
  @ApiProperty({ type: [String], description: 'Versions a rollback returns to, newest first' })
  previous!: string[];
}
