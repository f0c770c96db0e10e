import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SCOPE_STRING } from '@edge/auth-contract';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

export const NAME_RE = /^[a-z][a-z0-9_-]{0,62}$/;

export class RouteBodyDto {
  @ApiProperty({
    example: '/api/v0/widgets',
    description: 'Path prefix (canonical, case-sensitive)',
  })
  @IsString()
  @MaxLength(200)
  @Matches(/^\//, { message: 'pathPrefix must start with /' })
  pathPrefix!: string;

  @ApiProperty({ example: 'widgets', description: 'An upstream of this node or a static cluster' })
  @IsString()
  @Matches(NAME_RE, { message: 'upstream must be a name like widgets ([a-z][a-z0-9_-]{0,62})' })
  upstream!: string;

  @ApiPropertyOptional({
    example: ['widgets:read'],
    description: 'Scopes the caller needs (route metadata edge.authn.route)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @Matches(SCOPE_STRING, {
    each: true,
    message: 'requiredScopes entries must look like resource:action',
  })
  requiredScopes?: string[];

  @ApiPropertyOptional({ example: 15000, description: 'Route timeout, 1 ms – 60 s (default 15 s)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(60_000)
  timeoutMs?: number;
}

export class CreateRouteDto extends RouteBodyDto {
  @ApiProperty({ example: 'widgets', description: 'Unique on the node ([a-z][a-z0-9_-]{0,62})' })
  @IsString()
  @Matches(NAME_RE, { message: 'name must match [a-z][a-z0-9_-]{0,62}' })
  name!: string;
}

export class RouteDto {
  @ApiProperty() nodeId!: string;
  @ApiProperty() name!: string;
  @ApiProperty() pathPrefix!: string;
  @ApiProperty() upstream!: string;
  @ApiProperty({ type: [String] }) requiredScopes!: string[];
  @ApiProperty() timeoutMs!: number;
  @ApiProperty() updatedAt!: string;
}
