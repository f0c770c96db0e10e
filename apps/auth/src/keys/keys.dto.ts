import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
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
  ValidateNested,
} from 'class-validator';
import { SCOPE_PART } from '@edge/auth-contract';

export class ScopeDto {
  @ApiProperty({ example: 'keys' })
  @IsString()
  @Matches(SCOPE_PART, { message: 'resource must be lower-case [a-z0-9._-] or *' })
  resource!: string;

  @ApiProperty({ example: 'read' })
  @IsString()
  @Matches(SCOPE_PART, { message: 'action must be lower-case [a-z0-9._-] or *' })
  action!: string;
}

export class CreateKeyDto {
  @ApiProperty({ type: [ScopeDto], description: "Must be a subset of the caller's scopes" })
  @IsArray()
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => ScopeDto)
  scopes!: ScopeDto[];

  @ApiPropertyOptional({
    description: "Lifetime in seconds. Defaults to (and may not exceed) the caller's expiry.",
    example: 86400,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10 * 365 * 86_400)
  expires_in_seconds?: number;
}

export class RotateKeyDto {
  @ApiProperty({
    description: 'How long the old secret keeps working (0 = stops at once)',
    example: 3600,
  })
  @IsInt()
  @Min(0)
  grace_period_seconds!: number;
}

export class KeyViewDto {
  @ApiProperty() tenant!: string;
  @ApiProperty() user_id!: string;
  @ApiProperty({ example: 'ak_0123456789abcdef0123456789abcdef' }) key_id!: string;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
  @ApiProperty({ nullable: true, type: String }) revoked_at!: string | null;
  @ApiProperty({ enum: ['active', 'revoked'] }) status!: 'active' | 'revoked';
  @ApiProperty({ type: [ScopeDto] }) scopes!: ScopeDto[];
  @ApiPropertyOptional({ description: 'Present when the key expires' }) expires_at?: string;
  @ApiPropertyOptional({ description: 'Present for child keys' }) parent_key_id?: string;
}

export class KeyWithSecretDto extends KeyViewDto {
  @ApiProperty({ description: 'Shown once; only a hash is stored' }) secret!: string;
}

export class RotatedKeyDto extends KeyWithSecretDto {
  @ApiProperty({ nullable: true, type: String, description: 'Until when the old secret works' })
  previous_secret_expires_at!: string | null;
}

export class ListKeysQueryDto {
  @ApiPropertyOptional({
    description: 'Page size (default KEYS_PAGE_DEFAULT = 50, at most KEYS_PAGE_MAX = 200)',
    example: 50,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  limit?: number;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page (opaque)' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export class KeyListDto {
  @ApiProperty({ type: [KeyViewDto], description: 'The calling key and the keys below it' })
  keys!: KeyViewDto[];

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })
  next_cursor!: string | null;
}
